"""Institutions (banks, agencies, courts) that look up certificates through the signed
institution API: credentials, scopes, rate limits; every access audited."""
