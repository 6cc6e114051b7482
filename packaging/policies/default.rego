# TapPass default policy.
#
# The gateway evaluates `data.tappass.decision` once per request, after the detectors ran, with
# the input document described in docs/policy.md. The decision is always defined:
#
#   {"allow": bool, "reason": string, "rule": string, "obligations": [object, ...]}
#
# Allow by default; deny when
#   private_key          a PRIVATE_KEY was detected: secret keys must never reach a provider
#   prompt_injection     injection_score >= 0.8
#   restricted_lockdown  the data is RESTRICTED and the agent runs in lockdown mode
# When several deny rules match, the first in this list decides (the others are still visible
# in `denials` when the policy is evaluated by hand).
#
# Obligations: CONFIDENTIAL or RESTRICTED data that is allowed carries {"type": "log_full"}
# (record the full decision input in the audit trail).
#
# Copy this file into your policy directory and edit it there; see docs/policy.md.
package tappass

injection_threshold := 0.8

# Each denial: {"priority": n, "rule": name, "reason": text}. Lower priority decides.
denials contains {
	"priority": 1,
	"rule": "private_key",
	"reason": "a private key was detected: secret keys must never reach a provider",
} if {
	some detection in input.detections
	detection.type == "PRIVATE_KEY"
}

denials contains {
	"priority": 2,
	"rule": "prompt_injection",
	"reason": "prompt injection suspected (injection score at or above 0.8)",
} if {
	is_number(input.injection_score)
	input.injection_score >= injection_threshold
}

denials contains {
	"priority": 3,
	"rule": "restricted_lockdown",
	"reason": "RESTRICTED data may not be sent to a provider in lockdown mode",
} if {
	input.classification == "RESTRICTED"
	input.flags.mode == "lockdown"
}

obligations contains {"type": "log_full"} if {
	input.classification in {"CONFIDENTIAL", "RESTRICTED"}
}

first_denial := d if {
	top := min({p | some x in denials; p := x.priority})
	some d in denials
	d.priority == top
}

default decision := {"allow": true, "obligations": []}

decision := {
	"allow": false,
	"rule": first_denial.rule,
	"reason": first_denial.reason,
	"obligations": [o | some o in obligations],
} if {
	count(denials) > 0
}

decision := {
	"allow": true,
	"obligations": [o | some o in obligations],
} if {
	count(denials) == 0
}
