"""Real-name and face verification (issue 3). Imports nothing of app but settings and storage."""
