"""The report model and the parser that turns any layout into it."""
