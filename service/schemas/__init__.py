"""Request and response bodies of the HTTP API (named by direction, as in the template), one module per resource
as service/routes/ is laid out; common.py holds the field types they share and the strict request config.
"""
