app = {"this": "is a dict, not an App"}
