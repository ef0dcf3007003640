from typing import Annotated, Literal

import msgspec

from oakling import App, Request
from oakling.forms import BooleanField, StructForm, form_for

app = App()
app.state.signups = []


class SignupIn(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=2, max_length=40, title="Your name")]
    email: Annotated[str, msgspec.Meta(extra_json_schema={"format": "email"})]
    age: Annotated[int, msgspec.Meta(ge=18, description="You must be an adult.")]
    plan: Literal["free", "pro"] = "free"
    company: str | None = None  # optional: empty gives None


# One Struct: the JSON API validates with it...
@app.post("/api/signups", status=201)
def api_signup(signup: SignupIn) -> SignupIn:
    app.state.signups.append(signup)
    return signup


# ...and the HTML form is made from it, constraints and labels included.
class SignupForm(StructForm[SignupIn]):
    terms = BooleanField(required=True, label="I accept the terms")  # an extra field


@app.route("/signup", methods=["GET", "POST"])
def signup(request: Request, form: SignupForm) -> object:
    if form.is_valid():
        app.state.signups.append(form.struct)  # a SignupIn instance
        return "<p>Welcome!</p>"
    return form.render(request, submit="Sign up"), (422 if form.is_bound else 200)


QuickForm = form_for(SignupIn, exclude=["company"])  # the same, without a class statement
