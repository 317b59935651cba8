using System.Net;
using System.Net.Http.Headers;
using Polly.Timeout;
using ServerlessImaging.Dicom.Web.Http;

namespace ServerlessImaging.Dicom.Web.Tests.Http;

public class DicomWebPathsTests
{
    [Theory]
    [InlineData("http://127.0.0.1:8144/dicom-web", "http://127.0.0.1:8144/dicom-web/studies/1.2")]
    [InlineData("http://127.0.0.1:8144/dicom-web/", "http://127.0.0.1:8144/dicom-web/studies/1.2")]
    [InlineData("https://ws-svc.dicom.azurehealthcareapis.com/v2", "https://ws-svc.dicom.azurehealthcareapis.com/v2/studies/1.2")]
    public void Base_addresses_join_with_or_without_trailing_slash(string baseAddress, string expected)
    {
        var joined = new Uri(DicomWebPaths.NormalizeBase(new Uri(baseAddress)), DicomWebPaths.Resource("1.2"));
        Assert.Equal(expected, joined.AbsoluteUri);
    }

    [Fact]
    public void Base_address_must_be_absolute_http_without_query()
    {
        Assert.Throws<ArgumentException>(() => DicomWebPaths.NormalizeBase(new Uri("ftp://x/")));
        Assert.Throws<ArgumentException>(() => DicomWebPaths.NormalizeBase(new Uri("http://x/dicom-web/?a=b")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("1.2.")]
    [InlineData("1.2.3a")]
    [InlineData("1.2/..")]
    public void Invalid_uids_are_refused(string uid)
    {
        Assert.Throws<ArgumentException>(() => DicomWebPaths.Uid(uid));
    }

    [Fact]
    public void Instance_path_needs_series_and_series_needs_study()
    {
        Assert.Equal("studies/1/series/2/instances/3", DicomWebPaths.Resource("1", "2", "3"));
        Assert.Throws<ArgumentException>(() => DicomWebPaths.Resource("1", null, "3"));
        Assert.Throws<ArgumentException>(() => DicomWebPaths.Resource(null, "2"));
    }

    [Theory]
    [InlineData(408, true)]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(503, true)]
    [InlineData(501, false)]
    [InlineData(400, false)]
    [InlineData(404, false)]
    [InlineData(409, false)]
    public void Transient_statuses(int status, bool transient)
    {
        Assert.Equal(transient, TransientFailures.IsTransient((HttpStatusCode)status));
    }

    [Fact]
    public void Network_errors_and_timeouts_are_transient_but_cancellation_is_not()
    {
        Assert.True(TransientFailures.IsTransient(new HttpRequestException("reset")));
        Assert.True(TransientFailures.IsTransient(new TimeoutRejectedException()));
        Assert.False(TransientFailures.IsTransient(new OperationCanceledException()));
    }

    [Fact]
    public void Retry_after_as_delta_or_date()
    {
        var now = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        Assert.Equal(TimeSpan.FromSeconds(7), TransientFailures.RetryAfter(new RetryConditionHeaderValue(TimeSpan.FromSeconds(7)), now));
        Assert.Equal(TimeSpan.FromSeconds(30), TransientFailures.RetryAfter(new RetryConditionHeaderValue(now.AddSeconds(30)), now));
        Assert.Equal(TimeSpan.Zero, TransientFailures.RetryAfter(new RetryConditionHeaderValue(now.AddSeconds(-30)), now));
        Assert.Null(TransientFailures.RetryAfter(null, now));
    }
}
