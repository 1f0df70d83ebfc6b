"""The pages, one module each, every one an `APIRouter` that `web.app.create_app` includes."""
