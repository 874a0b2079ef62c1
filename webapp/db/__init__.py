"""The ground floor for storage, which imports nothing else of the app's.

``types`` holds the column types every table uses, ``sqlite`` the SQLite connection a web server
needs, and ``tallies`` the SQL of the triggers behind exact list totals.
"""
