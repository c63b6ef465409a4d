"""Memory at scale: pausing the cyclic garbage collector while large acyclic structures are built."""
