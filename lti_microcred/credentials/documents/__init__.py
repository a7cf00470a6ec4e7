"""Credential documents and their builders: Open Badges 3.0, CLR 2.0, Open Badges 2.0 exports."""
