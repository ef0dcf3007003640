from html import escape

from oakling import App, Request, redirect
from oakling.web.csrf import csrf_input, protect
from oakling.web.messages import flash, get_flashed_messages

app = App()
USERS = {"ada": "correct horse"}  # use oakling.auth for real password checks
LOGIN = """<form method="post" action="/login">{csrf}
<input name="username"> <input name="password" type="password"> <button>Log in</button></form>"""
LOGOUT = """<p>Hello {user}</p>
<form method="post" action="/logout">{csrf}<button>Log out</button></form>"""


@app.get("/")
def home(request: Request) -> str:
    notes = "".join(f"<p>{escape(text)}</p>" for text in get_flashed_messages(request))
    user = request.session.get("user")
    if user is None:
        return notes + LOGIN.format(csrf=csrf_input(request))
    return notes + LOGOUT.format(user=escape(user), csrf=csrf_input(request))


@app.post("/login")
@protect  # checked even before the visitor has a session: no forged logins
def login(request: Request) -> object:
    form = request.read_form()
    name = str(form.get("username", ""))
    if USERS.get(name) != form.get("password"):
        flash(request, "Wrong user name or password", "error")
        return redirect("/", 303)
    request.session.cycle_key()  # a new session id and CSRF secret at login
    request.session["user"] = name
    flash(request, f"Welcome, {name}", "success")
    return redirect("/", 303)


@app.post("/logout")
def logout(request: Request) -> object:
    request.session.flush()
    return redirect("/", 303)
