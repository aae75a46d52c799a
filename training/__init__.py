"""Train GAN generators on MNIST and Fashion-MNIST, evaluate them and export them to ONNX.

Flow: data → variant (G, D, loss) → trainer → checkpoint → export → manifest.
"""
