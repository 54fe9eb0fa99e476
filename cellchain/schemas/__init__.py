"""Marshmallow schemas of the JSON API: what integrations may count on (DESIGN section 8).

They document requests and answers for the OpenAPI document (``/api/v1/openapi.json``); input is
checked field by field by the domain parsers, which name each bad field the same way.
"""
