// Command go-directory-cid-peer computes record CIDs the way the AGNTCY Directory does
// (agntcy/dir api/core/v1 Record.Marshal and GetCid): json.Marshal of the record's data Struct
// (which is protojson), json.Unmarshal into a generic value, json.Marshal again, then sha2-256 and
// CIDv1 with the raw codec in multibase base32 lower. Only the standard library and
// google.golang.org/protobuf, so that dirtk's TypeScript implementation is checked against Go itself.
//
// Input, one record a line on stdin: the base64 of an agntcy.dir.core.v1.Record in protobuf wire
// form (field 1, data, a google.protobuf.Struct). Output, one JSON line per record:
// {"canonical": base64 of the canonical bytes, "cid": "b…"} or {"error": "…"}.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

const recordDataField = 1

type answer struct {
	Canonical []byte `json:"canonical,omitempty"`
	Cid       string `json:"cid,omitempty"`
	Error     string `json:"error,omitempty"`
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<20), 64<<20)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		if err := out.Encode(compute(in.Text())); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func compute(line string) answer {
	wire, err := base64.StdEncoding.DecodeString(line)
	if err != nil {
		return answer{Error: "input is not base64: " + err.Error()}
	}
	data, err := recordData(wire)
	if err != nil {
		return answer{Error: err.Error()}
	}
	canonical, err := canonicalJSON(data)
	if err != nil {
		return answer{Error: err.Error()}
	}
	return answer{Canonical: canonical, Cid: rawCid(canonical)}
}

// recordData decodes the data field of a Record, skipping any other field.
func recordData(wire []byte) (*structpb.Struct, error) {
	data := &structpb.Struct{}
	for len(wire) > 0 {
		number, kind, n := protowire.ConsumeTag(wire)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		wire = wire[n:]
		if number == recordDataField && kind == protowire.BytesType {
			field, m := protowire.ConsumeBytes(wire)
			if m < 0 {
				return nil, protowire.ParseError(m)
			}
			if err := (proto.UnmarshalOptions{Merge: true}).Unmarshal(field, data); err != nil {
				return nil, fmt.Errorf("record data: %w", err)
			}
			wire = wire[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(number, kind, wire)
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		wire = wire[m:]
	}
	return data, nil
}

// canonicalJSON is the Directory's Record.Marshal pipeline.
func canonicalJSON(data *structpb.Struct) ([]byte, error) {
	first, err := json.Marshal(data)
	if err != nil {
		return nil, err
	}
	var generic any
	if err := json.Unmarshal(first, &generic); err != nil {
		return nil, err
	}
	return json.Marshal(generic)
}

// rawCid is CIDv1 (0x01), raw codec (0x01), sha2-256 multihash (0x12, 32 bytes), base32 lower with the "b" prefix.
func rawCid(content []byte) string {
	digest := sha256.Sum256(content)
	binary := append([]byte{0x01, 0x01, 0x12, 0x20}, digest[:]...)
	return "b" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(binary))
}
