// Login and error pages of the authorization endpoint: no JavaScript, one inline stylesheet allowed by
// its hash (CSP), labels on every field, the application's name and the requested scopes shown before
// the user signs in (signing in is the consent, docs/oauth.md "Consent").
#include "api/oauth_pages.hpp"

#include <kazoo_bridge/net/url.hpp>
#include <kazoo_bridge/oauth/crypto.hpp>

namespace kazoo_bridge::api::detail {
namespace {

std::string stylesheet(const oauth_branding& b) {
  // The colour was validated as #rrggbb by config; escaped anyway (it is interpolated into CSS).
  const std::string color = html_escape(b.primary_color);
  return R"(
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f6f8;color:#1b1f24}
main{max-width:26rem;margin:4vh auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08)}
@media (max-width:30rem){main{margin:0;border-radius:0;box-shadow:none;min-height:100vh}}
.brand{display:flex;align-items:center;gap:.75rem;margin-bottom:1rem}
.brand img{max-height:40px;max-width:160px}
h1{font-size:1.35rem;margin:.25rem 0 1rem}
.app{background:#f4f6f8;border-radius:8px;padding:.75rem 1rem;margin-bottom:1.25rem}
.app ul{margin:.5rem 0 0;padding-left:1.25rem}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=password]{width:100%;padding:.65rem .75rem;font:inherit;border:1px solid #8c959f;border-radius:6px}
input:focus,button:focus{outline:3px solid )" +
         color + R"(;outline-offset:2px}
.actions{display:flex;gap:.75rem;margin-top:1.5rem;flex-wrap:wrap}
button{font:inherit;padding:.65rem 1.25rem;border-radius:6px;border:1px solid )" +
         color + R"(;cursor:pointer}
button.primary{background:)" + color + R"(;color:#fff;font-weight:600;flex:1}
button.secondary{background:#fff;color:#1b1f24;border-color:#8c959f}
.alert{border-left:4px solid #cf222e;background:#ffebe9;padding:.75rem 1rem;border-radius:6px;margin-bottom:1rem}
.note{color:#57606a;font-size:.875rem;margin-top:1.25rem}
)";
}

std::string csp_for(const std::string& css, const oauth_branding& b, const std::string& form_target_origin) {
  std::string img = "'none'";
  if (auto o = url_origin(b.logo_url); !o.empty()) img = o;
  std::string csp = "default-src 'none'; style-src 'sha256-" + oauth::base64(oauth::sha256_raw(css)) + "'; img-src " +
                    img + "; form-action 'self'";
  // Chromium applies form-action to the redirect that follows a form submission: the client's origin must
  // be allowed, or the 303 to its redirect_uri would be blocked.
  if (!form_target_origin.empty()) csp += " " + form_target_origin;
  csp += "; frame-ancestors 'none'; base-uri 'none'";
  return csp;
}

std::string head(const oauth_branding& b, const std::string& title, const std::string& css) {
  return "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
         "<meta name=\"robots\" content=\"noindex\">\n<title>" +
         html_escape(title) + " - " + html_escape(b.product_name) + "</title>\n<style>" + css +
         "</style>\n</head>\n<body>\n<main>\n<div class=\"brand\">" +
         (url_origin(b.logo_url).empty() ? std::string()
                                          : "<img src=\"" + html_escape(b.logo_url) + "\" alt=\"" +
                                                html_escape(b.product_name) + "\">") +
         "</div>\n";
}

const char* scope_description(const std::string& s) {
  if (s == "calls") return "See your calls and be notified of new ones";
  if (s == "dial") return "Place calls from your phone (click-to-call)";
  if (s == "account") return "See the calls of every user of your account (account administrators only)";
  return "";
}

std::string hidden(const char* name, const std::string& value) {
  if (value.empty()) return {};
  return std::string("<input type=\"hidden\" name=\"") + name + "\" value=\"" + html_escape(value) + "\">\n";
}

}  // namespace

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string url_origin(std::string_view url) {
  if (url.empty()) return {};
  auto u = net::parse_url(url);
  if (!u || (u->scheme != "http" && u->scheme != "https")) return {};
  return u->scheme + "://" + u->authority();
}

html_page render_login(const oauth_branding& b, const oauth::show_form& f) {
  const auto& r = f.form.req;
  const std::string css = stylesheet(b);
  std::string h = head(b, "Sign in", css);
  h += "<h1>Sign in to " + html_escape(b.product_name) + "</h1>\n";
  if (!f.message.empty()) h += "<p class=\"alert\" role=\"alert\" id=\"form-error\">" + html_escape(f.message) + "</p>\n";
  h += "<section class=\"app\" aria-labelledby=\"app-heading\">\n<p id=\"app-heading\"><strong>" +
       html_escape(f.form.client_name) + "</strong> asks to:</p>\n<ul>\n";
  for (const auto& s : f.form.scopes_shown) h += "<li>" + html_escape(scope_description(s)) + "</li>\n";
  h += "</ul>\n</section>\n";
  h += "<form method=\"post\" action=\"/oauth/authorize\" autocomplete=\"on\"" +
       std::string(f.message.empty() ? "" : " aria-describedby=\"form-error\"") + ">\n";
  h += hidden("response_type", "code");
  h += hidden("client_id", r.client_id);
  h += hidden("redirect_uri", r.redirect_uri);
  h += hidden("state", r.state);
  h += hidden("scope", r.scope_text);
  if (!r.code_challenge.empty()) {
    h += hidden("code_challenge", r.code_challenge);
    h += hidden("code_challenge_method", "S256");
  }
  h += hidden("csrf_token", f.form.form_token);
  const bool focus_account = f.account.empty();
  const bool focus_user = !focus_account && f.username.empty();
  h += "<label for=\"account\">Account name</label>\n<input type=\"text\" id=\"account\" name=\"account\" "
       "required maxlength=\"256\" autocomplete=\"organization\" autocapitalize=\"none\" spellcheck=\"false\" value=\"" +
       html_escape(f.account) + "\"" + (focus_account ? " autofocus" : "") + ">\n";
  h += "<label for=\"username\">User name</label>\n<input type=\"text\" id=\"username\" name=\"username\" required "
       "maxlength=\"256\" autocomplete=\"username\" autocapitalize=\"none\" spellcheck=\"false\" value=\"" +
       html_escape(f.username) + "\"" + (focus_user ? " autofocus" : "") + ">\n";
  h += "<label for=\"password\">Password</label>\n<input type=\"password\" id=\"password\" name=\"password\" required "
       "maxlength=\"1024\" autocomplete=\"current-password\"" +
       std::string(!focus_account && !focus_user ? " autofocus" : "") + ">\n";
  h += "<div class=\"actions\">\n<button type=\"submit\" class=\"primary\" name=\"decision\" value=\"allow\">"
       "Sign in and allow</button>\n<button type=\"submit\" class=\"secondary\" name=\"decision\" value=\"deny\" "
       "formnovalidate>Cancel</button>\n</div>\n</form>\n";
  h += "<p class=\"note\">You will return to " + html_escape(f.form.client_name) +
       ". Your password is checked by " + html_escape(b.product_name) + " and never shared with the application.</p>\n";
  h += "</main>\n</body>\n</html>\n";
  return {std::move(h), csp_for(css, b, url_origin(r.redirect_uri))};
}

html_page render_error(const oauth_branding& b, const oauth::page_error& e) {
  const std::string css = stylesheet(b);
  std::string h = head(b, "Cannot continue", css);
  h += "<h1>This sign-in link cannot be used</h1>\n<p class=\"alert\" role=\"alert\">" + html_escape(e.description) +
       "</p>\n<p>Error code: <code>" + html_escape(e.error) +
       "</code></p>\n<p class=\"note\">Go back to the application you came from and connect again. If this keeps "
       "happening, tell its developer: the link it opened is not registered here.</p>\n</main>\n</body>\n</html>\n";
  return {std::move(h), csp_for(css, b, "")};
}

}  // namespace kazoo_bridge::api::detail
