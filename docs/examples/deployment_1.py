"""myproject/app.py: one app object for every server.

ASGI:  granian --interface asgi myproject.app:app   (or: uvicorn myproject.app:app)
WSGI:  gunicorn myproject.app:wsgi                  (or: granian --interface wsgi ...)
"""

from oakling import App

app = App()  # settings from OAKLING_* variables: see docs/settings.md
wsgi = app.wsgi  # gunicorn needs a plain name: it cannot load "app.wsgi"


@app.get("/healthz")
def health() -> dict[str, str]:
    return {"status": "ok"}
