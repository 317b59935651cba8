using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.DependencyInjection;
using ServerlessImaging.Cloud.Api.Delivery;
using ServerlessImaging.Dicom;
using ServerlessImaging.Dicom.Web;
using ServerlessImaging.Dicom.Web.Authentication;
using ServerlessImaging.Dicom.Web.Qido;
using ServerlessImaging.Orchestration.Ports;
using ServerlessImaging.Cloud.Tests.Runtime.Support;
using ServerlessImaging.Testing.Stack;

namespace ServerlessImaging.Cloud.Tests.Api;

/// <summary>
/// The delivery source against the Orthanc DICOMweb stand-in, read with our own DICOMweb client as a relay reads it: a
/// delivery token reads its study (QIDO-RS, WADO-RS of a series) and nothing else; forged, altered, expired or API tokens
/// read nothing; each read is audited with the command.
/// </summary>
[Collection(LocalStackFixture.CollectionName)]
public sealed class DeliverySourceTests(LocalStackFixture stack) : IAsyncLifetime
{
    private ApiHost host = null!;

    public async Task InitializeAsync() => host = await ApiHost.StartAsync(stack);

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task A_delivery_token_reads_its_study_through_the_source_as_the_DICOM_service_holds_it()
    {
        var (study, series, sops) = await DicomServiceSeed.StoreStudyAsync(host.Services.GetRequiredService<IDicomStore>(), 3);
        var tokens = host.Services.GetRequiredService<DeliverySourceTokens>();
        var token = tokens.Issue(new DeliverySourceGrant("reg-1/deliver/" + study + "/a1", host.SiteIds[0], study, DateTimeOffset.UtcNow.AddMinutes(5)));
        using var client = Relay(token);

        var listed = new List<string>();
        await foreach (var instance in client.SearchAsync(QidoQuery.Instances(study).Include(DicomTag.SeriesInstanceUID).Include(DicomTag.SOPClassUID)))
        {
            listed.Add(instance.GetString(DicomTag.SOPInstanceUID)!);
            Assert.Equal(series, instance.GetString(DicomTag.SeriesInstanceUID));
        }

        Assert.Equal(sops.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));

        var retrieved = new List<string>();
        await using (var response = await client.RetrieveAsync(study, series))
        {
            await foreach (var part in response.ReadPartsAsync())
            {
                retrieved.Add((await DicomFile.OpenAsync(part.Body)).Dataset.GetString(DicomTag.SOPInstanceUID)!);
            }
        }

        Assert.Equal(sops.Order(StringComparer.Ordinal), retrieved.Order(StringComparer.Ordinal));

        // Audited, with the command the token was issued for (not fail-closed: written after the answer streamed).
        var records = await WaitForRecordsAsync("DeliverySourceRetrieve", 1);
        Assert.Contains("command=reg-1/deliver/" + study + "/a1", records[0].GetProperty("outcomeDescription").GetString(), StringComparison.Ordinal);
        Assert.Equal("relay:" + host.SiteIds[0], records[0].GetProperty("userId").GetString());
    }

    [Fact]
    public async Task Another_study_forged_altered_expired_or_API_tokens_read_nothing()
    {
        var (study, series, _) = await DicomServiceSeed.StoreStudyAsync(host.Services.GetRequiredService<IDicomStore>(), 1);
        var (other, otherSeries, _) = await DicomServiceSeed.StoreStudyAsync(host.Services.GetRequiredService<IDicomStore>(), 1);
        var tokens = host.Services.GetRequiredService<DeliverySourceTokens>();
        var token = tokens.Issue(new DeliverySourceGrant("cmd", host.SiteIds[0], study, DateTimeOffset.UtcNow.AddMinutes(5)));
        var expired = tokens.Issue(new DeliverySourceGrant("cmd", host.SiteIds[0], study, DateTimeOffset.UtcNow.AddSeconds(-1)));
        var forged = new DeliverySourceTokens(new byte[32]).Issue(new DeliverySourceGrant("cmd", host.SiteIds[0], study, DateTimeOffset.UtcNow.AddMinutes(5)));
        var parts = token.Split('.');
        var altered = tokens.Issue(new DeliverySourceGrant("cmd", host.SiteIds[0], other, DateTimeOffset.UtcNow.AddMinutes(5))).Split('.')[0] + "." + parts[1];

        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync($"/delivery-source/studies/{other}/series/{otherSeries}", token));
        Assert.Equal(HttpStatusCode.Forbidden, await StatusAsync($"/delivery-source/studies/{other}/instances", token));
        foreach (var refused in new[] { expired, forged, altered, "garbage", host.Tokens.Issue("someone", ["admin"], TimeSpan.FromMinutes(5)) })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync($"/delivery-source/studies/{study}/series/{series}", refused));
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await StatusAsync($"/delivery-source/studies/{study}/instances", null));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync($"/delivery-source/studies/{study}/instances", token));
    }

    [Fact]
    public void Tokens_carry_their_grant_and_refuse_tampering()
    {
        var tokens = new DeliverySourceTokens(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());
        var grant = new DeliverySourceGrant("c", "site", "1.2.3", new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var token = tokens.Issue(grant);

        Assert.Equal(grant, tokens.Check(token, grant.ExpiresAt.AddSeconds(-1)));
        Assert.Null(tokens.Check(token, grant.ExpiresAt));
        Assert.Null(tokens.Check(token[..^2] + (token[^2] == 'A' ? "BA" : "AA"), grant.ExpiresAt.AddHours(-1)));
        Assert.Null(tokens.Check(token + ".x", grant.ExpiresAt.AddHours(-1)));
        Assert.Throws<ArgumentException>(() => new DeliverySourceTokens(new byte[16]));
    }

    private DicomWebClient Relay(string token) =>
        DicomWebClient.Create(new DicomWebClientOptions { BaseAddress = new Uri(host.Client.BaseAddress!, "delivery-source/"), Authentication = DicomWebAuthentication.BearerToken(token) });

    private async Task<HttpStatusCode> StatusAsync(string path, string? bearer)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        using var response = await host.Client.SendAsync(request);
        return response.StatusCode;
    }

    private async Task<List<System.Text.Json.JsonElement>> WaitForRecordsAsync(string eventType, int count)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var (_, body) = await host.SendAsync(host.Request(HttpMethod.Get, "/audit?pageSize=200", "auditor"));
            var records = body.GetProperty("records").EnumerateArray().Where(r => r.GetProperty("eventType").GetString() == eventType).ToList();
            if (records.Count >= count)
            {
                return records;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"No {eventType} audit record.");
    }
}
