"""Electronic real-estate certificates (不动产权电子证书) and certificates of registration
(不动产登记证明): numbered without gaps, rendered, signed, verifiable (issue 6)."""
