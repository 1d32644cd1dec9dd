"""The grants of the demo server, one module per grant (as Authlib's rfc6749/grants/)."""
