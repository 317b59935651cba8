using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.DependencyInjection;
using ServerlessImaging.FunctionApp.Api;

namespace ServerlessImaging.FunctionApp.Tests;

/// <summary>The worker can create every function class from its services, as it does for each invocation.</summary>
public sealed class FunctionClassTests(WorkerHost worker) : IClassFixture<WorkerHost>
{
    private static readonly Type[] FunctionClasses = [.. typeof(ApiPipeline).Assembly.GetTypes()
        .Where(type => type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static).Any(m => m.GetCustomAttribute<FunctionAttribute>() is not null))];

    [Fact]
    public async Task Every_function_class_with_instance_functions_is_created_from_the_worker_services()
    {
        Assert.True(FunctionClasses.Length >= 8);
        await using var scope = worker.Services.CreateAsyncScope();
        foreach (var type in FunctionClasses.Where(t => !t.IsAbstract))
        {
            Assert.NotNull(ActivatorUtilities.CreateInstance(scope.ServiceProvider, type));
        }
    }
}
