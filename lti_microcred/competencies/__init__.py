"""The micro-credential domain. Imports nothing from Flask, pylti1p3 or the other packages."""
