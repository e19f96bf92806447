// Sessions live in storage (see services/session.js) and every page checks them on
// show, so the app itself keeps no state.
App({});
