from oakling import App, Request, Settings
from oakling.web.csrf import exempt
from oakling.web.security import csp_nonce, security_headers

app = App(
    settings=Settings.from_env(
        content_security_policy="default-src 'self'; script-src 'self' {nonce}",
    )
)


@app.get("/")
def page(request: Request) -> str:
    return f'<script nonce="{csp_nonce(request)}">console.log("allowed")</script>'


@app.get("/widget")
@security_headers(x_frame_options="SAMEORIGIN")  # this page may be framed by the site
def widget() -> str:
    return "<p>A widget</p>"


@app.post("/hooks/payments")
@exempt  # called by a payment provider, authenticated by its own signature
def payment_hook(request: Request) -> dict[str, bool]:
    return {"received": True}
