package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"time"
)

// hostileCACount self-issued CA certificates with one subject and one key: each validly signs each
// other, so a path builder that tries every candidate issuer explores about e·n! paths before giving up.
const hostileCACount = 7

// hostileChain makes a leaf for spiffe://<td>/hostile issued by a P-521 key, followed by
// hostileCACount CA certificates that all share that key and one subject. None of them chains to any
// real bundle.
func hostileChain(td string) (tls.Certificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	subject := pkix.Name{Organization: []string{"dirtk interop"}, CommonName: "hostile CA"}

	var cas []*x509.Certificate
	var chain [][]byte
	for i := 0; i < hostileCACount; i++ {
		template := &x509.Certificate{
			SerialNumber:          big.NewInt(int64(1000 + i)),
			Subject:               subject,
			NotBefore:             now.Add(-time.Hour),
			NotAfter:              now.Add(24 * time.Hour),
			IsCA:                  true,
			BasicConstraintsValid: true,
			KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		}
		// Self-issued and self-signed: the issuer is the same subject and the same key.
		der, err := x509.CreateCertificate(rand.Reader, template, template, &caKey.PublicKey, caKey)
		if err != nil {
			return tls.Certificate{}, err
		}
		ca, err := x509.ParseCertificate(der)
		if err != nil {
			return tls.Certificate{}, err
		}
		cas = append(cas, ca)
		chain = append(chain, der)
	}

	id := &url.URL{Scheme: "spiffe", Host: td, Path: "/hostile"}
	leafTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"dirtk interop"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		URIs:                  []*url.URL{id},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	leaf, err := x509.CreateCertificate(rand.Reader, leafTemplate, cas[0], &leafKey.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	// Prove the premise: every CA signs every other CA and the leaf.
	parsedLeaf, err := x509.ParseCertificate(leaf)
	if err != nil {
		return tls.Certificate{}, err
	}
	for _, issuer := range cas {
		if err := parsedLeaf.CheckSignatureFrom(issuer); err != nil {
			return tls.Certificate{}, fmt.Errorf("leaf not signed by a CA: %w", err)
		}
		for _, child := range cas {
			if err := child.CheckSignatureFrom(issuer); err != nil {
				return tls.Certificate{}, fmt.Errorf("CA %v not signed by CA %v: %w", child.SerialNumber, issuer.SerialNumber, err)
			}
		}
	}
	return tls.Certificate{Certificate: append([][]byte{leaf}, chain...), PrivateKey: leafKey}, nil
}

// serveHostile is a plain crypto/tls server presenting the hostile chain. It completes handshakes
// (when the client goes on) and reports each one; it never serves gRPC.
func serveHostile(o options) error {
	if o.trustDomain == "" {
		return errors.New("--trust-domain is required")
	}
	certificate, err := hostileChain(o.trustDomain)
	if err != nil {
		return fmt.Errorf("making the hostile chain: %w", err)
	}
	lis, err := tls.Listen("tcp", o.addr, &tls.Config{
		Certificates: []tls.Certificate{certificate},
		NextProtos:   []string{"h2"},
		MinVersion:   tls.VersionTLS12,
	})
	if err != nil {
		return err
	}
	emit(map[string]any{
		"listening":   lis.Addr().String(),
		"id":          "spiffe://" + o.trustDomain + "/hostile",
		"chainLength": len(certificate.Certificate),
	})
	exitWhenStdinCloses()
	for {
		conn, err := lis.Accept()
		if err != nil {
			return err
		}
		go func(conn net.Conn) {
			defer conn.Close()
			tlsConn := conn.(*tls.Conn)
			_ = tlsConn.SetDeadline(time.Now().Add(30 * time.Second))
			if err := tlsConn.Handshake(); err != nil {
				emit(map[string]any{"event": "handshake-error", "remote": conn.RemoteAddr().String(), "error": err.Error()})
				return
			}
			emit(map[string]any{"event": "handshake", "remote": conn.RemoteAddr().String()})
			// Hold the connection until the client hangs up (or the deadline passes).
			buffer := make([]byte, 1024)
			for {
				if _, err := tlsConn.Read(buffer); err != nil {
					return
				}
			}
		}(conn)
	}
}
