"""The tratos command line: parse, call the Application, print."""
