"""The words people read: refusal messages by code, labels for stored codes, numbers written for reading.

Pure Python (no Flask, no SQLAlchemy): rules, operations, PDFs and page templates all word things the
same way, and a translation later replaces these catalogues and nothing else.
"""
