"""The ground floor for storage, which imports nothing else of the app's.

``types`` holds the column types every table uses, ``writer_queue`` the SQLite connection a web
server needs, ``server_pool`` the check of a database server's idle pooled connections, and
``tallies`` the SQL of the triggers behind exact list totals.
"""
