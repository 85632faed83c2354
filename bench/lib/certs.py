"""The certificate the TLS cases serve: one self-signed ECDSA P-256 certificate for
localhost, made by openssl for each run and given to every proxy alike."""
import os
import subprocess


def make(workdir):
    """Write cert.pem and its key under workdir; return their paths. The key is cert.pem.key,
    where haproxy looks for the key of a certificate file that has none."""
    cert = os.path.join(workdir, "cert.pem")
    key = cert + ".key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    return cert, key
