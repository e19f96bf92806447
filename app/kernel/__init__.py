"""The kernel: settings, database, encryption, time, errors, audit and counters.

Imported by every layer above and by the libraries (payments/, kyc/); it imports
nothing of the application above it.
"""
