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

package fakeplugin

import (
	"fmt"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

// APIServer is a fake API server (a client-go fake clientset) that serves
// objects and answers every TokenRequest with a new distinctive token, or
// with the error the test injects. Safe for concurrent use.
type APIServer struct {
	// Client is the clientset, for Deps.NewKubeClient or
	// plugin.NewAPIServiceAccountSource.
	Client *fake.Clientset

	prefix string
	mu     sync.Mutex
	tokens []string
	// audiences are the audiences of the TokenRequests, in order.
	audiences []string
	tokenErr  error
	emptyTok  bool
	saErr     error
}

// NewAPIServer serves objects; tokens are "<prefix>-<namespace>-<name>-<n>-unique".
func NewAPIServer(prefix string, objects ...runtime.Object) *APIServer {
	s := &APIServer{Client: fake.NewClientset(objects...), prefix: prefix}
	s.Client.PrependReactor("create", "serviceaccounts", func(action clienttesting.Action) (bool, runtime.Object, error) {
		create, ok := action.(clienttesting.CreateAction)
		if !ok || action.GetSubresource() != "token" {
			return false, nil, nil
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.tokenErr != nil {
			return true, nil, s.tokenErr
		}
		tr, _ := create.GetObject().(*authenticationv1.TokenRequest)
		out := &authenticationv1.TokenRequest{}
		if tr != nil {
			out.Spec = tr.Spec
			s.audiences = append(s.audiences, tr.Spec.Audiences...)
		}
		if !s.emptyTok {
			name := ""
			if impl, ok := action.(clienttesting.CreateActionImpl); ok {
				name = impl.Name
			}
			out.Status.Token = fmt.Sprintf("%s-%s-%s-%d-unique", s.prefix, action.GetNamespace(), name, len(s.tokens)+1)
			s.tokens = append(s.tokens, out.Status.Token)
		}
		out.Status.ExpirationTimestamp = metav1.NewTime(time.Now().Add(time.Hour))
		return true, out, nil
	})
	s.Client.PrependReactor("get", "serviceaccounts", func(clienttesting.Action) (bool, runtime.Object, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.saErr != nil {
			return true, nil, s.saErr
		}
		return false, nil, nil
	})
	return s
}

// FailTokens makes every TokenRequest fail with err (nil: succeed again).
func (s *APIServer) FailTokens(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokenErr = err
}

// EmptyTokens makes every TokenRequest succeed with an empty token.
func (s *APIServer) EmptyTokens(empty bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.emptyTok = empty
}

// FailServiceAccounts makes every GET of a ServiceAccount fail with err
// (nil: succeed again).
func (s *APIServer) FailServiceAccounts(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saErr = err
}

// Tokens returns every token issued so far.
func (s *APIServer) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tokens...)
}

// Audiences returns the audience of every TokenRequest so far.
func (s *APIServer) Audiences() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.audiences...)
}
