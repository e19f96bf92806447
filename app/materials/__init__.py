"""One set of materials (一套材料): files uploaded once per case, read by every department."""
