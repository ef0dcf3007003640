from oakling import App
from oakling.api import CORSConfig, CORSMiddleware

app = App()
app.add_middleware(
    CORSMiddleware,
    config=CORSConfig(
        allow_origins=["https://app.example.org"],
        allow_credentials=True,  # cookies and Authorization may be sent
        allow_headers=["X-CSRF-Token"],
        expose_headers=["X-Request-Id"],
        max_age=3600,  # browsers cache the preflight answer for an hour
    ),
)


@app.get("/api/me")
def me() -> dict[str, str]:
    return {"name": "alice"}
