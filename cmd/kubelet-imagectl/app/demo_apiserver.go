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

package app

// The credential provider scene's stand-in API server: a few handlers on
// 127.0.0.1 that answer exactly the requests "ensure --kubeconfig" sends
// during the scene, through the real client factory (a kubeconfig and
// client-go's typed clients):
//
//	GET  /api/v1/namespaces/NS/pods/NAME                  (--pod-name)
//	GET  /api/v1/namespaces/NS/secrets/NAME               (pull Secrets; the scene has none)
//	GET  /api/v1/namespaces/NS/serviceaccounts/NAME       (the plugin's service account)
//	POST /api/v1/namespaces/NS/serviceaccounts/NAME/token (TokenRequest)
//
// Responses are JSON objects with apiVersion and kind (client-go accepts
// JSON next to protobuf), errors a metav1.Status, so that apierrors.IsNotFound
// and friends hold. The TokenRequest body comes as client-go sends it:
// protobuf for built-in types by default, or JSON; both are decoded with
// client-go's own scheme. Typed Get and Create need no discovery. Anything else is a 404 Status naming the
// request. It replaces client-go's fake clientset, which in non-test code
// linked every fake typed client into the tool.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
)

const (
	// demoAPIMaxBodyBytes bounds a request body: a TokenRequest is a few
	// hundred bytes.
	demoAPIMaxBodyBytes = 1 << 20
	// demoAPIHeaderTimeout bounds reading a request's headers.
	demoAPIHeaderTimeout = 10 * time.Second
)

var (
	demoPodsResource            = v1.SchemeGroupVersion.WithResource("pods")
	demoSecretsResource         = v1.SchemeGroupVersion.WithResource("secrets")
	demoServiceAccountsResource = v1.SchemeGroupVersion.WithResource("serviceaccounts")
)

// demoAPIServer is the scene's stand-in for the API server: Pods,
// ServiceAccounts and Secrets held in memory, served over loopback HTTP,
// whose TokenRequest mints HMAC tokens for the demo plugin, only for its
// audience and only bound to an existing pod of that service account, as
// the API server binds tokens.
type demoAPIServer struct {
	key      []byte
	audience string
	now      func() time.Time

	// srv and done are set by start; done is closed when Serve returns.
	srv  *http.Server
	url  string
	done chan struct{}

	mu sync.Mutex
	// objects are the stored objects by resource, namespace and name.
	objects map[demoObjectKey]runtime.Object
	// minted counts the tokens handed out.
	minted int
}

// demoObjectKey names a stored object.
type demoObjectKey struct {
	resource        string
	namespace, name string
}

// newDemoAPIServer returns a stand-in holding objects (Pods,
// ServiceAccounts and Secrets), not yet serving; see start.
func newDemoAPIServer(key []byte, audience string, now func() time.Time, objects ...runtime.Object) (*demoAPIServer, error) {
	s := &demoAPIServer{key: key, audience: audience, now: now, objects: map[demoObjectKey]runtime.Object{}}
	for _, obj := range objects {
		if err := s.put(obj); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// start listens on a free loopback port and serves until stop. Plain HTTP:
// the server is bound to 127.0.0.1, lives as long as one demo run, and the
// tokens it hands out are valid only for the demo's plugin under a key
// made for this run.
func (s *demoAPIServer) start() error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("stand-in API server: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/namespaces/{namespace}/pods/{name}", s.get(demoPodsResource, "Pod"))
	mux.HandleFunc("GET /api/v1/namespaces/{namespace}/secrets/{name}", s.get(demoSecretsResource, "Secret"))
	mux.HandleFunc("GET /api/v1/namespaces/{namespace}/serviceaccounts/{name}", s.get(demoServiceAccountsResource, "ServiceAccount"))
	mux.HandleFunc("POST /api/v1/namespaces/{namespace}/serviceaccounts/{name}/token", s.createToken)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeDemoStatus(w, &apierrors.StatusError{ErrStatus: metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    http.StatusNotFound,
			Reason:  metav1.StatusReasonNotFound,
			Message: fmt.Sprintf("the stand-in API server does not serve %s %s", r.Method, r.URL.Path),
		}})
	})
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: demoAPIHeaderTimeout}
	s.url = "http://" + l.Addr().String()
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		// Returns http.ErrServerClosed once stop closes the server.
		_ = s.srv.Serve(l)
	}()
	return nil
}

// URL is the server's base URL, for a kubeconfig.
func (s *demoAPIServer) URL() string { return s.url }

// stop closes the listener and every connection, and waits for Serve to
// return.
func (s *demoAPIServer) stop() error {
	if s.srv == nil {
		return nil
	}
	err := s.srv.Close()
	<-s.done
	return err
}

// tokensMinted returns how many tokens were handed out.
func (s *demoAPIServer) tokensMinted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.minted
}

// putPod stores pod, replacing a pod of the same name, as a controller
// recreating it would.
func (s *demoAPIServer) putPod(pod *v1.Pod) error { return s.put(pod) }

// putServiceAccount stores sa, replacing an account of the same name, as
// deleting and recreating it would.
func (s *demoAPIServer) putServiceAccount(sa *v1.ServiceAccount) error { return s.put(sa) }

// put stores a copy of obj, with its apiVersion and kind set as the API
// server returns them.
func (s *demoAPIServer) put(obj runtime.Object) error {
	var (
		resource, kind string
		meta           *metav1.ObjectMeta
	)
	obj = obj.DeepCopyObject()
	switch o := obj.(type) {
	case *v1.Pod:
		resource, kind, meta = demoPodsResource.Resource, "Pod", &o.ObjectMeta
	case *v1.Secret:
		resource, kind, meta = demoSecretsResource.Resource, "Secret", &o.ObjectMeta
	case *v1.ServiceAccount:
		resource, kind, meta = demoServiceAccountsResource.Resource, "ServiceAccount", &o.ObjectMeta
	default:
		return fmt.Errorf("the stand-in API server does not hold %T", obj)
	}
	if meta.Namespace == "" || meta.Name == "" {
		return fmt.Errorf("the stand-in API server holds namespaced objects only, got %s %s/%s", kind, meta.Namespace, meta.Name)
	}
	obj.GetObjectKind().SetGroupVersionKind(v1.SchemeGroupVersion.WithKind(kind))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[demoObjectKey{resource: resource, namespace: meta.Namespace, name: meta.Name}] = obj
	return nil
}

// lookup returns the stored object or a NotFound error.
func (s *demoAPIServer) lookup(gvr schema.GroupVersionResource, namespace, name string) (runtime.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	obj, ok := s.objects[demoObjectKey{resource: gvr.Resource, namespace: namespace, name: name}]
	if !ok {
		return nil, apierrors.NewNotFound(gvr.GroupResource(), name)
	}
	// Copied: the caller encodes it outside the lock.
	return obj.DeepCopyObject(), nil
}

// get serves GET of one object of a resource.
func (s *demoAPIServer) get(gvr schema.GroupVersionResource, kind string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		obj, err := s.lookup(gvr, r.PathValue("namespace"), r.PathValue("name"))
		if err != nil {
			writeDemoStatus(w, err)
			return
		}
		writeDemoObject(w, http.StatusOK, obj)
	}
}

// createToken serves TokenRequests (POST serviceaccounts/NAME/token).
func (s *demoAPIServer) createToken(w http.ResponseWriter, r *http.Request) {
	tr, err := readDemoTokenRequest(w, r)
	if err != nil {
		writeDemoStatus(w, err)
		return
	}
	out, err := s.mintToken(r.PathValue("namespace"), r.PathValue("name"), tr)
	if err != nil {
		writeDemoStatus(w, err)
		return
	}
	writeDemoObject(w, http.StatusCreated, out)
}

// readDemoTokenRequest decodes a protobuf or JSON TokenRequest body.
// Another media type (CBOR, should a client prefer it) is answered 415, after
// which client-go falls back to JSON, as it does with an API server that
// does not read CBOR.
func readDemoTokenRequest(w http.ResponseWriter, r *http.Request) (*authenticationv1.TokenRequest, error) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || (mediaType != runtime.ContentTypeJSON && mediaType != runtime.ContentTypeProtobuf) {
		return nil, &apierrors.StatusError{ErrStatus: metav1.Status{
			Status:  metav1.StatusFailure,
			Code:    http.StatusUnsupportedMediaType,
			Reason:  metav1.StatusReasonUnsupportedMediaType,
			Message: fmt.Sprintf("the stand-in API server only reads %s and %s", runtime.ContentTypeJSON, runtime.ContentTypeProtobuf),
		}}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, demoAPIMaxBodyBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("more than %d bytes", demoAPIMaxBodyBytes))
		}
		return nil, apierrors.NewBadRequest("reading the body failed")
	}
	// The universal deserializer tells protobuf from JSON by the body's
	// prefix and needs the body's apiVersion and kind, which client-go sets.
	obj, gvk, err := scheme.Codecs.UniversalDeserializer().Decode(data, nil, nil)
	if err != nil {
		return nil, apierrors.NewBadRequest("the body is not a TokenRequest")
	}
	tr, ok := obj.(*authenticationv1.TokenRequest)
	if !ok || gvk.GroupVersion() != authenticationv1.SchemeGroupVersion {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the body is a %s, want an %s TokenRequest", gvk, authenticationv1.SchemeGroupVersion))
	}
	return tr, nil
}

// mintToken checks a TokenRequest for serviceaccounts/saName in ns and
// returns it with a token: the audience must be the plugin's alone, and the
// token bound to an existing pod of the account, with its UID.
func (s *demoAPIServer) mintToken(ns, saName string, tr *authenticationv1.TokenRequest) (*authenticationv1.TokenRequest, error) {
	obj, err := s.lookup(demoServiceAccountsResource, ns, saName)
	if err != nil {
		return nil, err
	}
	sa := obj.(*v1.ServiceAccount)
	if !slices.Equal(tr.Spec.Audiences, []string{s.audience}) {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the stand-in API server only mints tokens for the audience %q", s.audience))
	}
	ref := tr.Spec.BoundObjectRef
	if ref == nil || ref.Kind != "Pod" || ref.APIVersion != "v1" {
		return nil, apierrors.NewBadRequest("the stand-in API server only mints tokens bound to a Pod")
	}
	obj, err = s.lookup(demoPodsResource, ns, ref.Name)
	if err != nil {
		return nil, err
	}
	pod := obj.(*v1.Pod)
	switch {
	case ref.UID != pod.UID:
		return nil, apierrors.NewConflict(demoPodsResource.GroupResource(), ref.Name, fmt.Errorf("the bound object's UID %s is not the pod's", ref.UID))
	case pod.Spec.ServiceAccountName != saName:
		return nil, apierrors.NewBadRequest(fmt.Sprintf("pod %s/%s does not run as service account %s", ns, pod.Name, saName))
	}
	lifetime := time.Hour
	if tr.Spec.ExpirationSeconds != nil {
		lifetime = time.Duration(*tr.Spec.ExpirationSeconds) * time.Second
	}
	expires := s.now().Add(lifetime)
	token, err := mintDemoToken(s.key, demoTokenClaims{
		Namespace:          ns,
		ServiceAccountName: saName,
		ServiceAccountUID:  sa.UID,
		PodName:            pod.Name,
		PodUID:             pod.UID,
		Audience:           s.audience,
		ExpiresAt:          expires.Unix(),
	})
	if err != nil {
		return nil, apierrors.NewInternalError(err)
	}
	s.mu.Lock()
	s.minted++
	s.mu.Unlock()
	out := tr.DeepCopy()
	out.Status = authenticationv1.TokenRequestStatus{Token: token, ExpirationTimestamp: metav1.NewTime(expires)}
	return out, nil
}

// writeDemoObject writes obj as JSON; its apiVersion and kind are set.
func writeDemoObject(w http.ResponseWriter, code int, obj runtime.Object) {
	data, err := json.Marshal(obj)
	if err != nil {
		writeDemoStatus(w, apierrors.NewInternalError(errors.New("encoding the response failed")))
		return
	}
	w.Header().Set("Content-Type", runtime.ContentTypeJSON)
	w.WriteHeader(code)
	_, _ = w.Write(data)
}

// writeDemoStatus writes err as a metav1.Status with its code; an error
// that carries no status is an internal error.
func writeDemoStatus(w http.ResponseWriter, err error) {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		status = apierrors.NewInternalError(err)
	}
	st := status.Status()
	// client-go decodes an error body as a Status only with these set.
	st.TypeMeta = metav1.TypeMeta{APIVersion: "v1", Kind: "Status"}
	st.Status = metav1.StatusFailure
	data, mErr := json.Marshal(&st)
	if mErr != nil {
		http.Error(w, "encoding the status failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", runtime.ContentTypeJSON)
	w.WriteHeader(int(st.Code))
	_, _ = w.Write(data)
}

// demoKubeconfig is a kubeconfig for the stand-in API server at url,
// without credentials: the stand-in asks for none.
func demoKubeconfig(url string) string {
	return fmt.Sprintf(`# kubelet-imagectl demo: the credential provider scene's stand-in API
# server, on loopback for the length of the demo run (plain HTTP, no user).
apiVersion: v1
kind: Config
clusters:
- name: stand-in
  cluster: {server: %q}
contexts:
- name: stand-in
  context: {cluster: stand-in, user: kubelet}
current-context: stand-in
users:
- name: kubelet
  user: {}
`, url)
}
