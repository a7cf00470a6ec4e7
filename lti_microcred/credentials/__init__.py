"""Open Badges 3.0 / CLR 2.0 credentials: build, sign, bake, check status and verify.

Pure library code: no Flask, no database, no imports from other lti_microcred packages.
"""
