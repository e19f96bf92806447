// Static text; kept as a page so that it can be read before logging in.
Page({});
