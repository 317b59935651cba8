using System.Collections.Specialized;
using System.Web;
using Microsoft.Playwright;
using ServerlessImaging.Console.Tests.Support;
using Xunit.Abstractions;

namespace ServerlessImaging.Console.Tests;

/// <summary>
/// The console in Entra ID mode, offline: the runtime sign-in config names a tenant and a client id (served to this page
/// only, by a Playwright route), MSAL is loaded from the pinned packages and sends the browser to the tenant's authorize
/// endpoint, intercepted here (no network to Entra ID): an authorization code request with PKCE, for the API scope,
/// coming back to the console.
/// </summary>
[Collection(ConsoleRigGroup.Name)]
public sealed class EntraSignInTests(ConsoleRig rig, ITestOutputHelper output)
{
    private const string TenantId = "00000000-0000-0000-0000-00000000abcd";
    private const string ClientId = "11111111-2222-3333-4444-555555555555";
    private const string ApiScope = "api://serverless-imaging-api/user_impersonation";

    [Fact]
    public async Task With_a_tenant_and_client_id_the_console_signs_in_with_MSAL_authorization_code_and_PKCE_for_the_API_scope()
    {
        var context = await rig.Browser.NewContextAsync(new BrowserNewContextOptions { Locale = "fr-FR" });
        var page = await context.NewPageAsync();
        page.PageError += (_, error) => rig.ConsoleErrors.Add("entra: " + error);
        await page.RouteAsync("**/shared/sign-in-config.js", route => route.FulfillAsync(new RouteFulfillOptions
        {
            ContentType = "text/javascript",
            Body = $"window.SI_SIGN_IN = {{ tenantId: '{TenantId}', clientId: '{ClientId}', apiScope: '{ApiScope}', dicomScope: 'https://dicom.healthcareapis.azure.com/.default' }};",
        }));

        // Everything MSAL asks of Entra ID is answered here: the authorize navigation is recorded and stopped.
        var authorize = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync("https://login.microsoftonline.com/**", async route =>
        {
            var url = new Uri(route.Request.Url);
            if (url.AbsolutePath.EndsWith("/oauth2/v2.0/authorize", StringComparison.Ordinal))
            {
                authorize.TrySetResult(url);
                await route.FulfillAsync(new RouteFulfillOptions { ContentType = "text/html", Body = "<p>Entra ID (simulé)</p>" });
                return;
            }

            await route.AbortAsync();
        });

        await page.GotoAsync(new Uri(rig.AppUrl, "console/#/connexion").ToString());
        var button = await rig.ExpectAsync(page, "#sign-in-entra");
        Assert.Equal(0, await page.Locator("#token").CountAsync()); // no development token box in this mode
        await rig.ScreenshotAsync(page, "console-sign-in-entra", output);
        await button.ClickAsync();

        var url = await authorize.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal($"/{TenantId}/oauth2/v2.0/authorize", url.AbsolutePath);
        NameValueCollection query = HttpUtility.ParseQueryString(url.Query);
        Assert.Equal(ClientId, query["client_id"]);
        Assert.Equal("code", query["response_type"]);
        Assert.Equal("S256", query["code_challenge_method"]);
        Assert.False(string.IsNullOrEmpty(query["code_challenge"]));
        Assert.Contains(ApiScope, query["scope"]!.Split(' '));
        Assert.Equal(new Uri(rig.AppUrl, "console/").ToString(), query["redirect_uri"]);
        await context.CloseAsync();
    }
}
