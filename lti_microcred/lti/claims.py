"""Names of the LTI 1.3 claims we read or write. https://www.imsglobal.org/spec/lti/v1p3/#required-message-claims"""

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = LTI + "message_type"
VERSION = LTI + "version"
DEPLOYMENT_ID = LTI + "deployment_id"
TARGET_LINK_URI = LTI + "target_link_uri"
RESOURCE_LINK = LTI + "resource_link"
ROLES = LTI + "roles"
CONTEXT = LTI + "context"
CUSTOM = LTI + "custom"
TOOL_PLATFORM = LTI + "tool_platform"
LAUNCH_PRESENTATION = LTI + "launch_presentation"
LIS = LTI + "lis"

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
DL_SETTINGS = DL + "deep_linking_settings"
DL_CONTENT_ITEMS = DL + "content_items"
DL_DATA = DL + "data"
DL_MSG = DL + "msg"

AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"

# Claims the specs define as JSON objects: anything else in them is refused before any code reads them.
OBJECT_CLAIMS = (RESOURCE_LINK, CONTEXT, CUSTOM, TOOL_PLATFORM, LAUNCH_PRESENTATION, LIS, DL_SETTINGS, AGS_ENDPOINT,
                 NRPS)

RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"
SUPPORTED_MESSAGE_TYPES = frozenset({RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST})

# Claims a session keeps after the launch (services, deep linking, presentation); the rest is dropped.
KEPT_AFTER_LAUNCH = (CUSTOM, DL_SETTINGS, AGS_ENDPOINT, NRPS, LAUNCH_PRESENTATION, TOOL_PLATFORM)
