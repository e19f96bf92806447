"""Paper certificates: gathering, the courier, the window."""
