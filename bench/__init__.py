"""`python -m bench`: how fast the sampling service is, against the hardware and the alternatives.

One invocation measures, on one model and one machine:
the raw ONNX Runtime session (the compute limit), a no-op FastAPI endpoint (the HTTP ceiling),
a naive FastAPI + PyTorch peer, and the service with batching off and on. Every server runs in
its own process on a free loopback port; the load comes from a separate async client process.
See docs/bench/README.md.
"""
