"""One composition module per Lambda function: its settings → its adapters → its service, and the glue
between the event Lambda hands over and that service (parse, call, count, answer).

`functions/<name>/app.py` is a few lines around one of these. Each module imports only what its function
runs, with ordinary top-level imports (the one lazy import in the package is PyYAML, for a policy file
without its parsed cache). Services depend on ports; adapters implement them; nothing in the domain imports from here.
"""
