package cosign

import (
	"crypto"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/mlgate/mlgate/sign/keys"
)

// PasswordEnv is the environment variable cosign (and mlgate) read the key
// password from.
const PasswordEnv = "COSIGN_PASSWORD"

// ErrNoPassword: the key is encrypted, COSIGN_PASSWORD is not set and there
// is no terminal to ask on.
var ErrNoPassword = errors.New("cosign: the key is encrypted: set " + PasswordEnv + " (it may be empty) or run on a terminal to be prompted")

func init() {
	keys.RegisterPrivateKeyLoader(loadPEM)
}

// loadPEM is the keys.PrivateKeyLoader for cosign encrypted keys.
func loadPEM(block *pem.Block, password keys.PasswordFunc) (crypto.Signer, bool, error) {
	if block.Type != PEMTypeSigstore && block.Type != PEMTypeCosign {
		return nil, false, nil
	}
	if password == nil {
		return nil, true, ErrNoPassword
	}
	pw, err := password()
	if errors.Is(err, keys.ErrNoPassword) {
		return nil, true, ErrNoPassword
	}
	if err != nil {
		return nil, true, err
	}
	s, err := ParsePrivateKey(pem.EncodeToMemory(block), pw)
	return s, true, err
}

// Password returns the password of a cosign key the way cosign finds it:
// the value of COSIGN_PASSWORD when the variable is set (even to the empty
// string), otherwise TerminalPassword.
func Password() ([]byte, error) {
	if v, ok := os.LookupEnv(PasswordEnv); ok {
		return []byte(v), nil
	}
	return TerminalPassword()
}

// TerminalPassword asks for the key password on stderr and reads it without
// echo from stdin when stdin is a terminal; otherwise it returns
// ErrNoPassword. It never reads a password from a pipe.
func TerminalPassword() ([]byte, error) {
	fd := int(os.Stdin.Fd())
	if !term.IsTerminal(fd) {
		return nil, ErrNoPassword
	}
	fmt.Fprint(os.Stderr, "Enter password for private key: ")
	pw, err := term.ReadPassword(fd)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return nil, fmt.Errorf("cosign: read password: %w", err)
	}
	return pw, nil
}

// LoadPrivateKey loads any private key mlgate understands (cosign
// encrypted keys included) from a file path or env://NAME reference,
// asking Password for the password when the key is encrypted.
func LoadPrivateKey(ref string) (crypto.Signer, error) {
	return keys.LoadPrivateKeyWithPassword(ref, Password)
}
