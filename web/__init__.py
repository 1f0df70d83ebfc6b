"""The web pages for reviewers (`nianbao serve`): server-rendered FastAPI + Jinja2 over the store (docs/web.md)."""
