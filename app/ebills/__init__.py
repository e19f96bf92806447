"""E-bills (issue 6): after payment, a fiscal e-bill (财政电子票据) for the administrative
fees, a tax payment certificate (完税证明) for the deed tax and a receipt for the
maintenance fund (专项维修资金收据), issued by an outside platform through
:mod:`app.integrations.ebills`, rendered as PDFs and listed with the citizen's receipts.
See docs/ebills.md."""
