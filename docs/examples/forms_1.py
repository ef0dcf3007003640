from oakling import App, Request, redirect
from oakling.forms import BooleanField, ChoiceField, EmailField, Form, TextAreaField, TextField

app = App()
app.state.messages = []


class Contact(Form):
    name = TextField(max_length=80)
    email = EmailField(help_text="We answer within a day.")
    topic = ChoiceField(choices={"question": "A question", "bug": "A bug report"})
    message = TextAreaField(min_length=10, max_length=2000)
    copy = BooleanField(label="Send me a copy")  # a checkbox: absent means False

    def clean(self) -> None:  # checks across fields, after each field is clean
        if self.data.get("topic") == "bug" and "http" not in self.data.get("message", ""):
            self.add_error("message", "Link to the page where the bug happens.")


def page(body: str) -> str:
    return f"<!doctype html><title>Contact</title><main>{body}</main>"


@app.route("/contact", methods=["GET", "POST"])
def contact(request: Request, form: Contact) -> object:
    # The form is bound to the posted fields (and unbound on GET).
    if form.is_valid():
        app.state.messages.append(form.data)  # typed, cleaned values
        return redirect("/thanks", 303)
    # First visit: 200. Invalid post: 422, the values typed kept (escaped), errors shown.
    return page(form.render(request)), (422 if form.is_bound else 200)


@app.get("/thanks")
def thanks() -> str:
    return page("<p>Thank you!</p>")
