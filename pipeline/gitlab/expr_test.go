package gitlab

import (
	"testing"

	"github.com/mlgate/mlgate/pipeline"
)

func TestEvalExprMR(t *testing.T) {
	vars := map[string]string{"MODE": "fast", "REF": "$OTHER"}
	cases := []struct {
		expr string
		want pipeline.Tri
	}{
		{`$CI_PIPELINE_SOURCE == "merge_request_event"`, pipeline.True},
		{`$CI_PIPELINE_SOURCE == 'push'`, pipeline.False},
		{`$CI_PIPELINE_SOURCE != "merge_request_event"`, pipeline.False},
		{`$CI_MERGE_REQUEST_IID`, pipeline.True},
		{`$CI_MERGE_REQUEST_ID`, pipeline.True},
		{`$CI_COMMIT_BRANCH`, pipeline.False},
		{`$CI_COMMIT_TAG`, pipeline.False},
		{`$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH`, pipeline.False},
		{`$CI_COMMIT_BRANCH == "main" || $CI_COMMIT_TAG`, pipeline.False},
		{`$CI_COMMIT_REF_NAME == $CI_DEFAULT_BRANCH`, pipeline.Unknown},
		{`$CI_COMMIT_REF_NAME =~ /^v[0-9]+/`, pipeline.Unknown},
		{`$CI_PROJECT_PATH == "group/project"`, pipeline.True},
		{`$CI_PROJECT_NAMESPACE != "group"`, pipeline.False},
		{`$CI_PROJECT_NAMESPACE !~ /^gitlab-org($|\/)/`, pipeline.False},
		{`$CI_MERGE_REQUEST_SOURCE_PROJECT_PATH == "group/project"`, pipeline.False},
		{`$CI_MERGE_REQUEST_SOURCE_PROJECT_ID == $CI_PROJECT_ID`, pipeline.False},
		{`$CI_MERGE_REQUEST_SOURCE_PROJECT_PATH != null && $CI_MERGE_REQUEST_SOURCE_PROJECT_PATH !~ /^gitlab-org/`, pipeline.True},
		{`$MODE == "fast"`, pipeline.True},
		{`$MODE == "slow"`, pipeline.False},
		{`$MODE =~ /^FA/i`, pipeline.True},
		{`$REF == "x"`, pipeline.Unknown},
		{`$NOT_IN_FILE == "true"`, pipeline.False},
		{`$NOT_IN_FILE != null`, pipeline.False},
		{`$NOT_IN_FILE == null`, pipeline.True},
		{`$NOT_IN_FILE`, pipeline.Unknown},
		{`($CI_PIPELINE_SOURCE == "merge_request_event" && ($CI_COMMIT_BRANCH || $MODE == "fast"))`, pipeline.True},
		{`$CI_MERGE_REQUEST_LABELS =~ /run-gpu/`, pipeline.Unknown},
		{`$CI_PIPELINE_SOURCE == "merge_request_event" && $CI_MERGE_REQUEST_LABELS =~ /run-gpu/`, pipeline.Unknown},
		{`$CI_PIPELINE_SOURCE == "schedule" && $CI_MERGE_REQUEST_LABELS =~ /run-gpu/`, pipeline.False},
		{`$CI_COMMIT_REF_PROTECTED == "true"`, pipeline.False},
		{`garbage ==`, pipeline.Unknown},
		{`$A == `, pipeline.Unknown},
		{`(((`, pipeline.Unknown},
		{`$X =~ /unterminated`, pipeline.Unknown},
		{`$MODE =~ /(/`, pipeline.Unknown},
	}
	for _, c := range cases {
		if got := evalExpr(c.expr, mrContext(vars)); got != c.want {
			t.Errorf("%s: got %v, want %v", c.expr, got, c.want)
		}
	}
}
