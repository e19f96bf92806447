"""Orders, WeChat Pay and Alipay, refunds, the ledger (issue 5)."""
