from oakling import App

app = App()
raise RuntimeError("the database is down")
