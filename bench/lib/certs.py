"""The certificate the TLS cases serve: one self-signed ECDSA P-256 certificate for
localhost, made by openssl for each run and given to every proxy alike."""
import os
import subprocess


def make(workdir):
    """Write cert.pem and key.pem under workdir; return their paths."""
    cert, key = os.path.join(workdir, "cert.pem"), os.path.join(workdir, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=30)
    return cert, key
