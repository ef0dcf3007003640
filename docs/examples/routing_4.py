from oakling import App, View

app = App()
app.state.notes = {1: "first note"}


@app.route("/notes/{note_id:int}", name="note")
class Note(View):
    """One instance per request; each method is injected like a function handler."""

    def get(self, note_id: int) -> dict[str, object]:
        return {"id": note_id, "text": app.state.notes.get(note_id)}

    def put(self, note_id: int, text: str) -> dict[str, object]:
        app.state.notes[note_id] = text
        return {"id": note_id, "text": text}

    async def delete(self, note_id: int) -> None:
        app.state.notes.pop(note_id, None)
