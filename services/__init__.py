"""Services: one operation each, composed from the store and the notifications, in the
caller's transaction; and the runtime every entry point is built from."""
