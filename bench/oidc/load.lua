-- wrk script shared by both servers. Environment (set by run.py): SCENARIO, TOKENS (the JSON file
-- the seeders write), TOKEN_PATH, USERINFO_PATH, INTROSPECT_PATH, RP_AUTH, SERVICE_AUTH.
local scenario = os.getenv("SCENARIO")
local file = io.open(os.getenv("TOKENS"))
local raw = file:read("*a")
file:close()

local refresh = {}
for token in raw:match('"refresh_tokens":%s*%[(.-)%]'):gmatch('"([^"]+)"') do refresh[#refresh + 1] = token end
local access = raw:match('"access_token":%s*"([^"]+)"')
local cookie = raw:match('"session_cookie":%s*"([^"]+)"')
-- S256 of "bench-verifier-bench-verifier-bench-verifier-0123" (the code is never redeemed)
local authorize = "/oauth/authorize?response_type=code&client_id=bench-rp&redirect_uri=https%3A%2F%2Frp.example%2Fcb"
  .. "&scope=openid%20email%20profile&state=s&nonce=n&code_challenge_method=S256"
  .. "&code_challenge=kGjPCYjQVOltW8AKjvm5kW-9XDXQ14UHfkPa2I4oE1I"
local form = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local counter = 0

function request()
  if scenario == "userinfo" then
    return wrk.format("GET", os.getenv("USERINFO_PATH"), { ["Authorization"] = "Bearer " .. access })
  elseif scenario == "client_credentials" then
    form["Authorization"] = os.getenv("SERVICE_AUTH")
    return wrk.format("POST", os.getenv("TOKEN_PATH"), form, "grant_type=client_credentials&scope=reports")
  elseif scenario == "refresh" then
    -- each refresh token is used once (both servers rotate and treat reuse as theft)
    counter = counter + 1
    form["Authorization"] = os.getenv("RP_AUTH")
    return wrk.format("POST", os.getenv("TOKEN_PATH"), form,
      "grant_type=refresh_token&refresh_token=" .. refresh[((counter - 1) % #refresh) + 1])
  elseif scenario == "authorize" then
    -- a signed-in browser with consent on record: the whole chain of checks, a code, a 302
    return wrk.format("GET", authorize, { ["Cookie"] = cookie })
  elseif scenario == "introspection" then
    form["Authorization"] = os.getenv("RP_AUTH")
    return wrk.format("POST", os.getenv("INTROSPECT_PATH"), form, "token=" .. access)
  end
  return wrk.format("GET", wrk.path)
end
