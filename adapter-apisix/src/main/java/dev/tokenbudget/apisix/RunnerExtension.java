package dev.tokenbudget.apisix;

import org.apache.apisix.plugin.runner.server.ApplicationRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.beans.factory.support.BeanDefinitionRegistryPostProcessor;
import org.springframework.context.EnvironmentAware;
import org.springframework.core.env.Environment;

/**
 * Makes the runner's {@code ApplicationRunner} bean an {@link ExtendedApplicationRunner}, so that
 * admitted requests can go upstream with a rewritten body and reach the client with the decision
 * headers ({@link RewriteExtras}). Spring's own way of changing a bean before it exists: the
 * definition the runner's component scan registered gets the subclass as its class, and Spring
 * builds and injects it as it would have built the runner's.
 *
 * <p>{@code tokenbudget.apisix.body-rewrite=false} leaves the runner as it is (for an APISIX whose
 * {@code ext-plugin} does not read {@code Rewrite.body}); requests are then reserved at the
 * ceiling they ask for and keep their body, as the runner alone allows.
 */
final class RunnerExtension implements BeanDefinitionRegistryPostProcessor, EnvironmentAware {

    static final String ENABLED = "tokenbudget.apisix.body-rewrite";
    private static final Logger LOG = LoggerFactory.getLogger(RunnerExtension.class);

    private boolean enabled = true;

    @Override
    public void setEnvironment(Environment environment) {
        enabled = environment.getProperty(ENABLED, Boolean.class, true);
    }

    @Override
    public void postProcessBeanDefinitionRegistry(BeanDefinitionRegistry registry) {
        if (!enabled) {
            LOG.info("{}=false: request bodies are not rewritten", ENABLED);
            return;
        }
        int found = 0;
        for (String name : registry.getBeanDefinitionNames()) {
            BeanDefinition d = registry.getBeanDefinition(name);
            if (ApplicationRunner.class.getName().equals(d.getBeanClassName())) {
                d.setBeanClassName(ExtendedApplicationRunner.class.getName());
                found++;
            }
        }
        if (found == 0) {
            LOG.warn("the plugin runner's {} bean was not found: request bodies are not rewritten, decision "
                    + "headers reach clients on rejections only", ApplicationRunner.class.getName());
        }
    }

    @Override
    public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
        // nothing: the change is to a definition
    }
}
