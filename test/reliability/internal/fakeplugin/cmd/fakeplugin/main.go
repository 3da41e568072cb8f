/*
Copyright The Kubernetes Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

// Command fakeplugin is the exec credential provider plugin of the
// reliability campaigns (see package fakeplugin, which builds it and writes
// its configuration). It imports the standard library only, so that it
// builds in a moment and starts in a few milliseconds. Its behaviour comes
// from the provider's env:
//
//	FAKE_PLUGIN_MODE       ok (default), crash, garbage, wrongkind,
//	                       wrongversion, badcachekey, big, empty, hang
//	FAKE_PLUGIN_MODE_FILE  a file holding the mode, read at every execution
//	                       (it wins over FAKE_PLUGIN_MODE)
//	FAKE_PLUGIN_AUTH_KEY   the key of the one credential answered
//	FAKE_PLUGIN_USER       its username
//	FAKE_PLUGIN_PASSWORD   its password, unless
//	FAKE_PLUGIN_PASSWORD_ANNOTATION names a service account annotation of
//	                       the request whose value is the password
//	FAKE_PLUGIN_STDERR     printed on stderr by every execution, with the
//	                       token and the annotation values received
//	FAKE_PLUGIN_STDOUT     printed on stdout by the failure modes
//	FAKE_PLUGIN_RECORD     a file every execution appends its request to
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

// bigBytes is what the big mode prints: twice the kubelet's default bound
// of a plugin's stdout (1 MiB).
const bigBytes = 2 << 20

type request struct {
	APIVersion  string            `json:"apiVersion"`
	Image       string            `json:"image"`
	Token       string            `json:"serviceAccountToken"`
	Annotations map[string]string `json:"serviceAccountAnnotations"`
}

type authConfig struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

type response struct {
	Kind         string                `json:"kind"`
	APIVersion   string                `json:"apiVersion"`
	CacheKeyType string                `json:"cacheKeyType"`
	Auth         map[string]authConfig `json:"auth"`
}

func main() {
	os.Exit(run())
}

func run() int {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		return fail("reading stdin: %v", err)
	}
	var req request
	if err := json.Unmarshal(input, &req); err != nil {
		return fail("decoding the request: %v", err)
	}
	if path := os.Getenv("FAKE_PLUGIN_RECORD"); path != "" {
		if err := appendLine(path, input); err != nil {
			return fail("recording the request: %v", err)
		}
	}
	// What a careless plugin prints while it works: its own secret, the
	// token and the annotation values.
	keys := make([]string, 0, len(req.Annotations))
	for k := range req.Annotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(os.Stderr, "%s token=%s", os.Getenv("FAKE_PLUGIN_STDERR"), req.Token)
	for _, k := range keys {
		fmt.Fprintf(os.Stderr, " %s=%s", k, req.Annotations[k])
	}
	fmt.Fprintln(os.Stderr)

	password := os.Getenv("FAKE_PLUGIN_PASSWORD")
	if key := os.Getenv("FAKE_PLUGIN_PASSWORD_ANNOTATION"); key != "" {
		password = req.Annotations[key]
	}
	resp := response{
		Kind:         "CredentialProviderResponse",
		APIVersion:   req.APIVersion,
		CacheKeyType: "Image",
		Auth:         map[string]authConfig{os.Getenv("FAKE_PLUGIN_AUTH_KEY"): {Username: os.Getenv("FAKE_PLUGIN_USER"), Password: password}},
	}
	secret := os.Getenv("FAKE_PLUGIN_STDOUT")
	switch mode := mode(); mode {
	case "ok":
	case "crash":
		fmt.Fprintln(os.Stdout, secret, password)
		return 1
	case "garbage":
		fmt.Fprintf(os.Stdout, "not JSON %s %s {\"auth\":", secret, password)
		return 0
	case "wrongkind":
		resp.Kind = secret
	case "wrongversion":
		resp.APIVersion = "credentialprovider.kubelet.k8s.io/" + secret
	case "badcachekey":
		resp.CacheKeyType = secret
	case "big":
		out := strings.Repeat(secret+" ", bigBytes/(len(secret)+1)+1)
		_, _ = io.WriteString(os.Stdout, out[:bigBytes])
		return 0
	case "empty":
		return 0
	case "hang":
		fmt.Fprintf(os.Stdout, `{"kind":"CredentialProviderResponse","auth":{"x":{"password":%q`, secret+" "+password)
		time.Sleep(time.Hour)
		return 0
	default:
		return fail("unknown mode %q", mode)
	}
	if err := json.NewEncoder(os.Stdout).Encode(resp); err != nil {
		return fail("encoding the response: %v", err)
	}
	return 0
}

// mode reads the mode file when there is one, so that a test can change
// the plugin's behaviour between executions.
func mode() string {
	if path := os.Getenv("FAKE_PLUGIN_MODE_FILE"); path != "" {
		if data, err := os.ReadFile(path); err == nil {
			return strings.TrimSpace(string(data))
		}
	}
	if m := os.Getenv("FAKE_PLUGIN_MODE"); m != "" {
		return m
	}
	return "ok"
}

func appendLine(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append([]byte(strings.TrimSpace(string(data))), '\n')); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func fail(format string, args ...any) int {
	fmt.Fprintf(os.Stderr, "fakeplugin: "+format+"\n", args...)
	return 2
}
