using NativeSeg.Engine.Devices;
using NativeSeg.Engine.Tensors;
using NativeSeg.Kernels.Convolution;
using NativeSeg.Layers.Parameters;

namespace NativeSeg.Layers.Modules;

/// <summary>
/// A network building block that owns named parameters and child modules, in one style for every layer and
/// head. A module is built from a <see cref="ParameterStore"/> (a checkpoint's tensors by key, shape-checked);
/// its parameters keep their checkpoint keys, so <see cref="State"/> saves and <see cref="LoadState"/> resumes
/// in the upstream framework's names. Forward passes are the subclasses' own methods, since their inputs and
/// outputs differ (a feature map, a pyramid, pooled RoIs with labels).
/// </summary>
/// <remarks>
/// Raw parameters are what a module holds after construction, so it can be trained. Inference-only rewrites
/// (folding a frozen BatchNorm into the conv before it) happen in <see cref="CompileForInference"/>, an explicit
/// step that a loader for inference calls and a trainer never does.
/// </remarks>
public abstract class Module : IDisposable
{
    [ThreadStatic] private static List<Parameter>? t_building;

    private readonly List<Module> _children = [];
    private readonly List<Parameter> _parameters = [];
    private bool _disposed;

    /// <summary>True once <see cref="CompileForInference"/> has rewritten the module; it can no longer be trained or saved.</summary>
    public bool IsCompiled { get; private set; }

    /// <summary>
    /// Runs <paramref name="construct"/> inside a tensor scope: if it throws, every tensor it created and every
    /// parameter registered meanwhile (a half-built model's) is freed, so constructors need no clean-up code of their own.
    /// </summary>
    public static T Build<T>(Func<T> construct) where T : Module
    {
        var outer = t_building;
        var registered = new List<Parameter>();
        t_building = registered;
        try
        {
            using var scope = TensorScope.Begin();
            var module = construct();
            outer?.AddRange(registered);
            return module;
        }
        catch
        {
            foreach (var p in registered) p.Dispose();
            throw;
        }
        finally
        {
            t_building = outer;
        }
    }

    /// <summary>This module's parameters and its children's, in registration order.</summary>
    public IEnumerable<Parameter> Parameters() => _parameters.Concat(_children.SelectMany(c => c.Parameters()));

    /// <summary>Parameters the optimiser updates: weights that are not frozen.</summary>
    public IEnumerable<Parameter> TrainableParameters() => Parameters().Where(p => p.RequiresGrad);

    /// <summary>This module and every module below it, depth first.</summary>
    public IEnumerable<Module> Modules() => _children.SelectMany(c => c.Modules()).Prepend(this);

    /// <summary>Freezes or unfreezes every weight below this module (buffers are always frozen).</summary>
    public void SetFrozen(bool frozen)
    {
        foreach (var p in Parameters().Where(p => p.Kind == ParameterKind.Weight)) p.Frozen = frozen;
    }

    /// <summary>Moves every parameter to <paramref name="device"/>.</summary>
    public void To(Device device)
    {
        foreach (var p in Parameters()) p.MoveTo(device);
    }

    /// <summary>Every parameter's value by checkpoint key (not copies: the module keeps owning them).</summary>
    public IReadOnlyDictionary<string, Tensor> State()
    {
        if (IsCompiled) throw new InvalidOperationException($"{GetType().Name} was compiled for inference; its raw parameters are gone, so it cannot be saved");
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var p in Parameters())
            if (!state.TryAdd(p.Key, p.Value)) throw new InvalidOperationException($"{GetType().Name}: two parameters share the key '{p.Key}'");
        return state;
    }

    /// <summary>Copies every parameter's value from <paramref name="state"/>, which must hold each key with the same shape.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        var missing = Parameters().Where(p => !state.ContainsKey(p.Key)).Select(p => p.Key).ToList();
        if (missing.Count > 0)
            throw new KeyNotFoundException($"state: {missing.Count} parameters missing, e.g. {string.Join(", ", missing.Take(5))}");
        foreach (var p in Parameters()) p.CopyFrom(state[p.Key]);
    }

    /// <summary>
    /// Rewrites the module tree for inference (e.g. folds frozen BatchNorms into convolutions), once; for
    /// <see cref="InferencePrecision.Fp16"/> or <see cref="InferencePrecision.Bf16"/>, then converts or packs the weights that
    /// run in that precision (after every fold, so the folded weights are what is rounded, and after every parent's
    /// rewrite, which may read its children's weights).
    /// </summary>
    public void CompileForInference(InferencePrecision precision = InferencePrecision.Fp32)
    {
        if (precision == InferencePrecision.Fp16 && Parameters().FirstOrDefault(p => p.Value.Device.IsCpu) is { } onCpu)
        {
            throw new NotSupportedException(
                $"fp16 inference runs on a CUDA device only, and parameter {onCpu.Key} is on the cpu; use fp32 there");
        }
        if (precision == InferencePrecision.Bf16)
        {
            if (Parameters().FirstOrDefault(p => !p.Value.Device.IsCpu) is { } onDevice)
                throw new NotSupportedException($"bf16 inference runs on the CPU only, and parameter {onDevice.Key} is on {onDevice.Value.Device}");
            if (Bf16PanelKernel.Unavailable is { } why) throw new NotSupportedException($"bf16 inference cannot run here: {why}");
        }
        foreach (var m in Modules().Reverse().Where(m => !m.IsCompiled))
        {
            m.Compile();
            m.IsCompiled = true;
        }
        if (precision == InferencePrecision.Fp16)
            foreach (var m in Modules()) m.UseHalfWeights();
        if (precision == InferencePrecision.Bf16)
            foreach (var m in Modules()) m.UseBf16Weights();
    }

    /// <summary>This module's own inference rewrite; children are compiled before their parents.</summary>
    protected virtual void Compile()
    {
    }

    /// <summary>Converts the weights this module runs in half precision to float16 (see <see cref="InferencePrecision.Fp16"/>).</summary>
    protected virtual void UseHalfWeights()
    {
    }

    /// <summary>Packs the weights this module runs in bf16 on the CPU (see <see cref="InferencePrecision.Bf16"/>).</summary>
    protected virtual void UseBf16Weights()
    {
    }

    /// <summary>Frees what the module holds besides its parameters and children (e.g. tensors made by <see cref="Compile"/>).</summary>
    protected virtual void OnDispose()
    {
    }

    protected T Child<T>(T module) where T : Module
    {
        _children.Add(module);
        return module;
    }

    protected void RemoveChild(Module module)
    {
        _children.Remove(module);
        module.Dispose();
    }

    protected Parameter Register(Parameter parameter)
    {
        _parameters.Add(parameter);
        t_building?.Add(parameter);
        return parameter;
    }

    /// <summary>A trainable weight <paramref name="key"/> of exactly <paramref name="shape"/> from <paramref name="store"/>.</summary>
    protected Parameter AddWeight(ParameterStore store, string key, params int[] shape) => Register(new Parameter(key, store.Take(key, shape)));

    /// <summary>Saved, loaded, never trained: running statistics.</summary>
    protected Parameter AddBuffer(ParameterStore store, string key, params int[] shape) =>
        Register(new Parameter(key, store.Take(key, shape), ParameterKind.Buffer));

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        OnDispose();
        foreach (var p in _parameters) p.Dispose();
        foreach (var c in _children) c.Dispose();
        GC.SuppressFinalize(this);
    }
}
